"""metareview.records"""
