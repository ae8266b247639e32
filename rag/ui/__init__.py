"""The Gradio chat page: layout, handlers and the read-only open route."""
