"""CSV exports of lists, streamed (constant memory), in the dialect of the imports."""
