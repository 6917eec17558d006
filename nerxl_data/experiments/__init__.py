"""Experiments built on what the builders publish: ``scaling`` answers *how does target F1
scale as source languages are added, per transfer method?*"""
