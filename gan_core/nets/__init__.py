"""Building blocks and networks. Networks are plain `nn.Module`s with predictable state_dict keys."""
