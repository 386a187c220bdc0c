"""Source builders: each turns a public resource into a corpus directory (see volctrans.data.corpus)."""
