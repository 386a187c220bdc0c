from pathlib import Path

from setuptools import find_packages, setup

requirements = [
    line.split("#")[0].strip()
    for line in Path(__file__).with_name("requirements.txt").read_text().splitlines()
    if line.split("#")[0].strip()
]

setup(
    name="volctrans",
    version="0.1.0",
    description="Multilingual MT production system: cleaning, fairseq training with bilevel data weights, CTranslate2 serving",
    python_requires=">=3.10",
    packages=find_packages(include=["volctrans*", "cleaning*", "serving*", "volctrans_fairseq*"]),
    # torch and fairseq are installed by the Makefile: torch pinned to the local CPU build (or the user's own
    # GPU build), fairseq as ve-fairseq --no-deps (PyPI's fairseq does not import on Python 3.11).
    # Cleaning's default rules and learned constraints are data files read at run time.
    package_data={"cleaning": ["default_rules.yaml", "learned_default.json"]},
    install_requires=requirements,
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": ["volctrans=volctrans.cli.main:main"]},
)
