import torch

from speechsynth.models.masks import mask_from_lengths, padding_mask


def test_valid_and_padding_masks_are_complements():
    lengths = torch.tensor([3, 0, 5])
    valid = mask_from_lengths(lengths, 5)
    assert valid.tolist() == [
        [True, True, True, False, False],
        [False] * 5,
        [True] * 5,
    ]
    assert torch.equal(padding_mask(lengths, 5), ~valid)
    assert mask_from_lengths(lengths).shape == (3, 5)  # the longest length by default
    assert mask_from_lengths(torch.zeros(0, dtype=torch.long)).shape == (0, 0)
