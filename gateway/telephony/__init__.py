"""Asterisk integration: FastAGI server, AMI client, hand-over and overflow screening."""
