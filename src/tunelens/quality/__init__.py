"""How well tunelens does, measured against people: the quality harness behind
``tunelens eval affect`` and ``tunelens eval moods``.

It sits beside :mod:`tunelens.batch` and :mod:`tunelens.training` and reads pictures only
through :func:`tunelens.pipeline.build_pipeline` — the same decode, reader, faces, mapping and
ranking a visitor gets — so a figure printed here is a figure of the product, not of a copy of
it. ``docs/quality.md`` says what each figure means and keeps the before/after table.
"""
