"""chat_ui: the face. The Chainlit app."""
