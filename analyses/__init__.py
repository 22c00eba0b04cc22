"""One module per figure or table. Each defines ``ANALYSIS`` (a :class:`neurocomp.Analysis`)
registered in ``pyproject.toml`` under the ``neurocomp.analyses`` entry-point group."""
