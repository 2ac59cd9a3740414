"""What both stand-ins (tests/gemini_stub.py, tests/llm_stub.py) answer to a text translation
of cues: the target language a prompt names, and "[lang] text" per cue, spoilt as a cue fault
asks."""

import re

LANG_RE = re.compile(r"Target language: [^()\n]*\(([A-Za-z-]+)\)")
"""The target language's code in a prompt, as Subcue's engines word it: "German (de)"."""
CUE_FAULTS = {"forget", "repeat", "invent", "merge"}
"""Faults of a translation answer: leave out the middle cue; give one index twice; answer an
index nobody asked; put the middle cue's text into the one before and leave it out."""


def translated(asked: list[dict], lang: str, fault: str) -> list[dict]:
    """A translation answer: "[lang] text" per cue, spoilt as `fault` says."""
    cues = [{"index": c["index"], "text": f"[{lang}] {c['text']}"} for c in asked]
    middle = len(cues) // 2
    if fault == "forget" and cues:
        del cues[middle]
    elif fault == "repeat" and cues:
        cues.insert(middle, {"index": cues[middle]["index"], "text": "[again] something"})
    elif fault == "invent":
        cues.append({"index": 10**6, "text": "[xx] invented"})
    elif fault == "merge" and len(cues) > 1:
        merged = cues.pop(middle)
        cues[middle - 1]["text"] += " " + merged["text"] + " " + merged["text"]
    return cues
