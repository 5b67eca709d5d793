"""Korean NLU components for the Rasa pipeline.

Rasa's recipe check (rasa/graph_components/validators/default_recipe_validator.py) knows its own
components by their exact classes, so with ours in config.yml it warns at every training that no component
uses the response examples (TfidfResponseSelector does), the entity examples or the lookup table
(GatedDIETClassifier does). Those three warnings, and only those, are silenced here.
"""

import re
import warnings

for _unused in (
    "You have defined training data with examples for training a response selector, but your NLU "
    "configuration does not include a response selector component",
    "You have defined training data consisting of entity examples, but your NLU configuration does not "
    "include an entity extractor",
    "You have defined training data consisting of lookup tables, but your NLU configuration does not "
    "include any components that uses the features",
):
    warnings.filterwarnings("ignore", message=re.escape(_unused), category=UserWarning)
