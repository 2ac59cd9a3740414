"""Subtitle files in and out, one module a concern: reading an uploaded SRT, WebVTT or ASS
(`reader`), writing every output of a job (`writer`), and the ASS document of an `.ass` output
or a burn (`ass`).
"""
