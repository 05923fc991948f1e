-- A site's own wording of the widget's words (`site set --text en.question=…`):
-- a JSON object of languages, each of words. Empty: the product's words.
ALTER TABLE sites ADD COLUMN words TEXT NOT NULL DEFAULT '{}';
