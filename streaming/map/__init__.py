"""The live map: a static web page (``site/``, built from ``src/``) and the small server of ``wildrydes map``."""
