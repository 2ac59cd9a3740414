"""Storage of uploads and outputs: the local directory or an S3 bucket behind one
interface, and what each owner keeps.

May import: the top of jobs only.
"""
