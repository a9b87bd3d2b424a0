# Kept for tools that still call setup.py directly (and for babel's message
# extraction); all package metadata lives in pyproject.toml.
from setuptools import setup

setup(
    message_extractors={
        "ckanext": [
            ("**.py", "python", None),
            ("**.js", "javascript", None),
            ("**/templates/**.html", "ckan", None),
        ],
    },
)
