"""Token counting: the tokenizer, the chat template and the per-record table."""
