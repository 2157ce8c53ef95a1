"""metareview.stats"""
