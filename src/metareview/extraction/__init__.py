"""metareview.extraction"""
