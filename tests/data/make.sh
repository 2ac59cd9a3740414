#!/usr/bin/env bash
# Regenerates the committed test clips (needs espeak-ng and ffmpeg). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")"
espeak-ng -v en-us -s 150 -w /tmp/subcue-speech.wav \
  "The quick brown fox jumps over the lazy dog. Subtitles make every video easier to follow. \
Please remember to water the garden every morning. The weather today is sunny and warm. \
Thank you for listening to this short recording."
# 16 kHz mono, with one second of silence on both sides, as a small MP3-free WAV and an MP4.
ffmpeg -y -loglevel error -f lavfi -i anullsrc=r=16000:cl=mono -i /tmp/subcue-speech.wav \
  -filter_complex "[0]atrim=0:1[s];[1]aresample=16000[v];[s][v]concat=n=2:v=0:a=1[a];[a]apad=pad_dur=1[out]" \
  -map "[out]" -ac 1 -ar 16000 -c:a pcm_s16le speech.wav
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 speech.wav)
ffmpeg -y -loglevel error -f lavfi -i color=c=navy:s=160x120:r=10 -i speech.wav \
  -t "$duration" -c:v libx264 -preset veryslow -crf 40 -pix_fmt yuv420p -c:a aac -b:a 32k \
  -movflags +faststart speech.mp4
# Two seconds of near-silence: "audio with no speech".
ffmpeg -y -loglevel error -f lavfi -i anoisesrc=r=16000:a=0.001:d=2 -ac 1 -c:a pcm_s16le silence.wav
# story.txt is not turned into audio here: tests/test_readable.py speaks it at test time (93 s,
# too big to commit as WAV) with: espeak-ng -v en-us -s 140 -w raw.wav -f story.txt, then
# ffmpeg -i raw.wav -af "adelay=1000,apad=pad_dur=1" -ac 1 -ar 16000 story.wav.
