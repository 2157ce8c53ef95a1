"""metareview.store"""
