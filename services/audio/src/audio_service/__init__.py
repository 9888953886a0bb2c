"""audio-service: speech to text with faster-whisper behind KServe."""
