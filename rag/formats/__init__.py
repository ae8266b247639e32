"""Answers, reports and checks rendered for people and programs: JSON, Markdown, text, HTML."""
