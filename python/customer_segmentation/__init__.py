"""Customer segmentation by return behaviour: the clustering core and its tools."""
