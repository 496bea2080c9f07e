#!/usr/bin/env bash
# install-espeak.sh: make sure espeak-ng (the text-to-speech engine of agikit's default TTS provider,
# src/media/tts.ts) is installed on this machine; see install-command.sh.
exec bash "$(dirname "$0")/install-command.sh" espeak-ng
