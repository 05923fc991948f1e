-- Opening hours (`site set --hours`): deadlines count open time only. NULL: always open.
ALTER TABLE sites ADD COLUMN hours TEXT;
