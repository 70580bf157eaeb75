"""Small exposure changes: the same photo a little brighter or darker.

A photo taken a stop apart, or brightened by a phone's editor, is the same picture to the
person who took it, and should get the same songs. The colour reader's fit penalises how much
its prediction moves under these changes (:mod:`tunelens.training.invariant_ridge`), and
``tunelens eval moods`` measures how many songs survive them; both use the changes defined
here, so the fit and the figure mean the same thing by "±10 % exposure".
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageEnhance

from tunelens.vision.imaging import LoadedImage

#: PIL brightness factors of the changes: 10 % darker and 10 % brighter
EXPOSURE_FACTORS: tuple[float, ...] = (0.9, 1.1)


def shifted_exposure(image: LoadedImage, factor: float) -> LoadedImage:
    """The decoded picture brightened (factor > 1) or darkened (< 1) by PIL's brightness
    enhancer (every channel scaled, clipped at white), as if exposed a little differently."""
    changed = ImageEnhance.Brightness(Image.fromarray(image.pixels)).enhance(factor)
    return LoadedImage.from_array(np.asarray(changed, dtype=np.uint8))
