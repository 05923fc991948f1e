-- A site's accent colour (`site set --accent "#0a7d5a"`): the widget's buttons and checked
-- score, unless the page sets --nearmiss-accent. NULL: the widget's own blue.
ALTER TABLE sites ADD COLUMN accent TEXT;
