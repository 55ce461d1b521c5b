\set id random(1, 100000)
SELECT :id::integer + 1 AS next_id, 'row ' || :id AS label;
