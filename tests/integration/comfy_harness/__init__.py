"""Integration harness: random-weight model files, a ComfyUI server runner, a client and graph builders.

Standard library only in the test process; ComfyUI itself runs in child processes of its own Python.
"""
