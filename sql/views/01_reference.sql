-- Reference data for analysts: GB 3838-2002 Table 1, the plan metrics and the plan targets.

-- GB 3838-2002 Table 1 limits per item, water body and class (TN: lakes and reservoirs only).
CREATE VIEW analytics.gb3838_limits AS
SELECT i.item_id, i.item_no, i.name_zh, i.name_en, i.unit, i.bound, i.assessed,
       l.applies_to, l.class, c.label AS class_label, l.lower_limit, l.upper_limit
FROM envmon.gb3838_limit l
JOIN envmon.gb3838_item i USING (item_id)
JOIN envmon.gb3838_class c USING (class);

-- The six classes with their labels and the method's grades.
CREATE VIEW analytics.gb3838_classes AS
SELECT class, label, label_ascii, grade_zh, grade_en FROM envmon.gb3838_class;

-- The class of one value, for analysts' own data (the rule is envmon.gb3838_item_class).
-- SECURITY DEFINER: analysts have no rights on schema envmon, where the classifier lives.
CREATE FUNCTION analytics.gb3838_item_class(item text, value double precision, water_body text DEFAULT 'river')
RETURNS smallint
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, envmon AS $$
    SELECT envmon.gb3838_item_class(item, value, water_body)
$$;

-- The plan metrics with their names and units.
CREATE VIEW analytics.metrics AS
SELECT metric, name_zh, name_en, unit, period_basis, sort_order FROM envmon.metric;

-- The plan targets in force (envmon targets load).
CREATE VIEW analytics.plan_targets AS
SELECT metric, scope, comparator, value AS target, granularity, due, description, loaded_at
FROM envmon.plan_target;
