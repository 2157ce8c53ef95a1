"""metareview.datasets"""
