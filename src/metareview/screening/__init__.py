"""metareview.screening"""
