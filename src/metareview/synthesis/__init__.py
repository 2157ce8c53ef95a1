"""metareview.synthesis"""
