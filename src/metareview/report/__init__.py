"""metareview.report"""
