-- Static reference data and the rules built on it: GB 3838-2002 Table 1 and the single-factor
-- classification of the 2011 surface-water assessment method, the emission pollutants that carry
-- compliance, the plan metrics, and the period and scope rules every metric view shares.
-- Views live in sql/views/ (schema analytics) and are rebuilt whenever they change; only what
-- must persist across those rebuilds is here.

-- ---------------------------------------------------------------------------------------------
-- GB 3838-2002 Table 1 (basic items), by the item ids of the water feed.

CREATE TABLE envmon.gb3838_item (
    item_id    text PRIMARY KEY,
    item_no    text NOT NULL,          -- the row number in Table 1 ("8" for TP, "8b" its lake row)
    name_zh    text NOT NULL,
    name_en    text NOT NULL,
    unit       text NOT NULL,
    bound      text NOT NULL CHECK (bound IN ('upper', 'lower', 'range')),
    -- One of the 21 items of the 2011 method that decide a class; TN is classified apart (lakes).
    assessed   boolean NOT NULL,
    sort_order smallint NOT NULL UNIQUE
);

INSERT INTO envmon.gb3838_item (item_id, item_no, name_zh, name_en, unit, bound, assessed, sort_order) VALUES
    ('ph',     '2',  'pH',           'pH',                        'dimensionless', 'range', true,  1),
    ('do',     '3',  '溶解氧',        'dissolved oxygen',          'mg/L', 'lower', true,  2),
    ('codmn',  '4',  '高锰酸盐指数',   'permanganate index CODMn',  'mg/L', 'upper', true,  3),
    ('cod',    '5',  '化学需氧量',     'COD',                       'mg/L', 'upper', true,  4),
    ('bod5',   '6',  '五日生化需氧量', 'BOD5',                      'mg/L', 'upper', true,  5),
    ('nh3n',   '7',  '氨氮',          'ammonia nitrogen NH3-N',    'mg/L', 'upper', true,  6),
    ('tp',     '8',  '总磷',          'total phosphorus TP',       'mg/L', 'upper', true,  7),
    ('tn',     '9',  '总氮',          'total nitrogen TN',         'mg/L', 'upper', false, 8),
    ('cu',     '10', '铜',            'copper',                    'mg/L', 'upper', true,  9),
    ('zn',     '11', '锌',            'zinc',                      'mg/L', 'upper', true,  10),
    ('f',      '12', '氟化物',        'fluoride (as F-)',          'mg/L', 'upper', true,  11),
    ('se',     '13', '硒',            'selenium',                  'mg/L', 'upper', true,  12),
    ('as',     '14', '砷',            'arsenic',                   'mg/L', 'upper', true,  13),
    ('hg',     '15', '汞',            'mercury',                   'mg/L', 'upper', true,  14),
    ('cd',     '16', '镉',            'cadmium',                   'mg/L', 'upper', true,  15),
    ('cr6',    '17', '六价铬',        'chromium (VI)',             'mg/L', 'upper', true,  16),
    ('pb',     '18', '铅',            'lead',                      'mg/L', 'upper', true,  17),
    ('cn',     '19', '氰化物',        'cyanide',                   'mg/L', 'upper', true,  18),
    ('phenol', '20', '挥发酚',        'volatile phenol',           'mg/L', 'upper', true,  19),
    ('oil',    '21', '石油类',        'petroleum',                 'mg/L', 'upper', true,  20),
    ('las',    '22', '阴离子表面活性剂', 'anionic surfactant',      'mg/L', 'upper', true,  21),
    ('s2',     '23', '硫化物',        'sulfide',                   'mg/L', 'upper', true,  22);

-- One row per item, water body and class Ⅰ..Ⅴ. applies_to 'all' unless the standard gives
-- separate limits: TP has river and lake/reservoir rows, TN applies to lakes/reservoirs only.
-- Limits are numeric so that analysts read 0.00005, not 5e-05.
CREATE TABLE envmon.gb3838_limit (
    item_id     text NOT NULL REFERENCES envmon.gb3838_item (item_id),
    applies_to  text NOT NULL CHECK (applies_to IN ('all', 'river', 'lake')),
    class       smallint NOT NULL CHECK (class BETWEEN 1 AND 5),
    lower_limit numeric,               -- value >= lower_limit (DO; pH 6)
    upper_limit numeric,               -- value <= upper_limit (every other item; pH 9)
    PRIMARY KEY (item_id, applies_to, class),
    CHECK (lower_limit IS NOT NULL OR upper_limit IS NOT NULL)
);

INSERT INTO envmon.gb3838_limit (item_id, applies_to, class, lower_limit, upper_limit)
SELECT t.item_id, t.applies_to, c.class,
       CASE WHEN t.bound IN ('lower', 'range') THEN t.limits[c.class] END,
       CASE WHEN t.bound = 'range' THEN t.upper_bound
            WHEN t.bound = 'upper' THEN t.limits[c.class] END
FROM (VALUES
    -- item,   applies_to, bound,  class Ⅰ..Ⅴ limits (lower bound for DO and pH), pH's upper bound
    ('ph',     'all',   'range', ARRAY[6, 6, 6, 6, 6]::numeric[],                       9::numeric),
    ('do',     'all',   'lower', ARRAY[7.5, 6, 5, 3, 2]::numeric[],                     NULL),
    ('codmn',  'all',   'upper', ARRAY[2, 4, 6, 10, 15]::numeric[],                     NULL),
    ('cod',    'all',   'upper', ARRAY[15, 15, 20, 30, 40]::numeric[],                  NULL),
    ('bod5',   'all',   'upper', ARRAY[3, 3, 4, 6, 10]::numeric[],                      NULL),
    ('nh3n',   'all',   'upper', ARRAY[0.15, 0.5, 1.0, 1.5, 2.0]::numeric[],            NULL),
    ('tp',     'river', 'upper', ARRAY[0.02, 0.1, 0.2, 0.3, 0.4]::numeric[],            NULL),
    ('tp',     'lake',  'upper', ARRAY[0.01, 0.025, 0.05, 0.1, 0.2]::numeric[],         NULL),
    ('tn',     'lake',  'upper', ARRAY[0.2, 0.5, 1.0, 1.5, 2.0]::numeric[],             NULL),
    ('cu',     'all',   'upper', ARRAY[0.01, 1.0, 1.0, 1.0, 1.0]::numeric[],            NULL),
    ('zn',     'all',   'upper', ARRAY[0.05, 1.0, 1.0, 2.0, 2.0]::numeric[],            NULL),
    ('f',      'all',   'upper', ARRAY[1.0, 1.0, 1.0, 1.5, 1.5]::numeric[],             NULL),
    ('se',     'all',   'upper', ARRAY[0.01, 0.01, 0.01, 0.02, 0.02]::numeric[],        NULL),
    ('as',     'all',   'upper', ARRAY[0.05, 0.05, 0.05, 0.1, 0.1]::numeric[],          NULL),
    ('hg',     'all',   'upper', ARRAY[0.00005, 0.00005, 0.0001, 0.001, 0.001]::numeric[], NULL),
    ('cd',     'all',   'upper', ARRAY[0.001, 0.005, 0.005, 0.005, 0.01]::numeric[],    NULL),
    ('cr6',    'all',   'upper', ARRAY[0.01, 0.05, 0.05, 0.05, 0.1]::numeric[],         NULL),
    ('pb',     'all',   'upper', ARRAY[0.01, 0.01, 0.05, 0.05, 0.1]::numeric[],         NULL),
    ('cn',     'all',   'upper', ARRAY[0.005, 0.05, 0.2, 0.2, 0.2]::numeric[],          NULL),
    ('phenol', 'all',   'upper', ARRAY[0.002, 0.002, 0.005, 0.01, 0.1]::numeric[],      NULL),
    ('oil',    'all',   'upper', ARRAY[0.05, 0.05, 0.05, 0.5, 1.0]::numeric[],          NULL),
    ('las',    'all',   'upper', ARRAY[0.2, 0.2, 0.2, 0.3, 0.3]::numeric[],             NULL),
    ('s2',     'all',   'upper', ARRAY[0.05, 0.1, 0.2, 0.5, 1.0]::numeric[],            NULL)
) AS t (item_id, applies_to, bound, limits, upper_bound)
CROSS JOIN generate_series(1, 5) AS c (class);

-- The six classes as published: Ⅰ..Ⅴ and 劣Ⅴ (stored as 6), with the method's grades.
CREATE TABLE envmon.gb3838_class (
    class       smallint PRIMARY KEY CHECK (class BETWEEN 1 AND 6),
    label       text NOT NULL UNIQUE,   -- Ⅰ Ⅱ Ⅲ Ⅳ Ⅴ 劣Ⅴ (Roman numeral characters)
    label_ascii text NOT NULL UNIQUE,   -- I II III IV V worse-than-V
    grade_zh    text NOT NULL,
    grade_en    text NOT NULL
);
INSERT INTO envmon.gb3838_class VALUES
    (1, 'Ⅰ',  'I',   '优',     'excellent'),
    (2, 'Ⅱ',  'II',  '优',     'excellent'),
    (3, 'Ⅲ',  'III', '良好',   'good'),
    (4, 'Ⅳ',  'IV',  '轻度污染', 'slightly polluted'),
    (5, 'Ⅴ',  'V',   '中度污染', 'moderately polluted'),
    (6, '劣Ⅴ', 'worse than V', '重度污染', 'heavily polluted');

-- The GB 3838 functions read the reference tables as their owner (SECURITY DEFINER with a fixed
-- search_path): envmon_analyst has no access to schema envmon, yet the analytics views it reads
-- call these functions, and so may the analyst directly.
--
-- Observations are passed as one jsonb array, [{"id": 1, "water_body": "lake", "items":
-- {"ph": 7.1, "do": 5.2, ...}}, ...], so that a view classifies all its samples or period means
-- in one set-based call instead of one function call per sample. items is the water feed's
-- jsonb; non-numeric entries and unknown keys are ignored. water_body 'lake' means lakes and
-- reservoirs; anything else is classified as a river.

-- The single-factor rule, per observation and item: an item's class is the best class whose
-- limits its value meets (a value exactly on a limit meets it), 6 (劣Ⅴ) when it meets no class
-- Ⅴ limit. An item without limits for the water body (TN in a river) yields no row. Values are
-- compared in double precision: a value parsed from "0.1" equals the limit 0.1.
CREATE FUNCTION envmon.gb3838_item_classes(observations jsonb)
RETURNS TABLE (id bigint, item_id text, sort_order smallint, assessed boolean, value double precision, class smallint)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT o.id, i.item_id, i.sort_order, i.assessed, v.value,
           coalesce(min(l.class) FILTER (
               WHERE (l.lower_limit IS NULL OR v.value >= l.lower_limit::double precision)
                 AND (l.upper_limit IS NULL OR v.value <= l.upper_limit::double precision)),
               6)::smallint
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(observations) = 'array' THEN observations ELSE '[]' END) AS ob
    CROSS JOIN LATERAL (
        SELECT CASE WHEN jsonb_typeof(ob -> 'id') = 'number' THEN (ob -> 'id')::bigint END AS id,
               CASE WHEN ob ->> 'water_body' = 'lake' THEN 'lake' ELSE 'river' END AS water_body,
               CASE WHEN jsonb_typeof(ob -> 'items') = 'object' THEN ob -> 'items' ELSE '{}' END AS items
    ) o
    CROSS JOIN LATERAL jsonb_each(o.items) AS e
    CROSS JOIN LATERAL (
        SELECT CASE WHEN jsonb_typeof(e.value) = 'number' THEN (e.value)::double precision END AS value
    ) v
    JOIN envmon.gb3838_item i ON i.item_id = lower(e.key)
    JOIN envmon.gb3838_limit l ON l.item_id = i.item_id AND l.applies_to IN ('all', o.water_body)
    WHERE v.value IS NOT NULL
    GROUP BY o.id, i.item_id, i.sort_order, i.assessed, v.value
$$;

-- The 2011 method's assessment of each observation: class is the worst class over its assessed
-- items (TN is not one), deciding_items the assessed items at that class in Table 1 order,
-- tn_class TN's own class (lakes and reservoirs only). Observations without any classifiable
-- item yield no row.
CREATE FUNCTION envmon.gb3838_assessments(observations jsonb)
RETURNS TABLE (id bigint, class smallint, deciding_items text[], tn_class smallint)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH c AS MATERIALIZED (SELECT * FROM envmon.gb3838_item_classes(observations)),
         worst AS (SELECT c.id, max(c.class) FILTER (WHERE c.assessed) AS class FROM c GROUP BY c.id)
    SELECT w.id, w.class,
           array_agg(c.item_id ORDER BY c.sort_order) FILTER (WHERE c.assessed AND c.class = w.class),
           max(c.class) FILTER (WHERE c.item_id = 'tn')
    FROM worst w
    JOIN c ON c.id = w.id
    GROUP BY w.id, w.class
$$;

-- The class of one item's value (1..6); NULL when the value is NULL or the item has no limits
-- for this water body (TN in a river, water temperature, unknown ids). TN in a lake gets its
-- own class here, but TN never decides a sample's class.
CREATE FUNCTION envmon.gb3838_item_class(item text, value double precision, water_body text DEFAULT 'river')
RETURNS smallint
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.class
    FROM envmon.gb3838_item_classes(jsonb_build_array(jsonb_build_object(
        'id', 0, 'water_body', water_body, 'items', jsonb_build_object(lower(item), value)))) c
$$;

-- One sample's assessment (see gb3838_assessments); class NULL without a classifiable item.
CREATE FUNCTION envmon.gb3838_assess(items jsonb, water_body text DEFAULT 'river',
                                     OUT class smallint, OUT deciding_items text[], OUT tn_class smallint)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.class, a.deciding_items, a.tn_class
    FROM (SELECT 1) one
    LEFT JOIN envmon.gb3838_assessments(jsonb_build_array(jsonb_build_object(
        'id', 0, 'water_body', water_body, 'items', items))) a ON true
$$;

-- ---------------------------------------------------------------------------------------------
-- Emission pollutants by canonical id; the compliance pollutants must carry a limit.

CREATE TABLE envmon.emission_pollutant (
    pollutant  text PRIMARY KEY,
    name_zh    text NOT NULL,
    name_en    text NOT NULL,
    compliance boolean NOT NULL
);
INSERT INTO envmon.emission_pollutant VALUES
    ('SO2',  '二氧化硫',   'sulphur dioxide',    true),
    ('NOx',  '氮氧化物',   'nitrogen oxides',    true),
    ('PM',   '颗粒物',     'particulate matter', true),
    ('COD',  '化学需氧量', 'chemical oxygen demand', true),
    ('NH3N', '氨氮',       'ammonia nitrogen',   true),
    ('TP',   '总磷',       'total phosphorus',   true),
    ('TN',   '总氮',       'total nitrogen',     true),
    ('pH',   'pH',         'pH',                 true);

-- ---------------------------------------------------------------------------------------------
-- The plan metrics. period_basis 'calendar': values for every month and year with data;
-- 'survey': values for the periods the surveys name (green coverage is a stock, surveyed).

CREATE TABLE envmon.metric (
    metric       text PRIMARY KEY,
    name_zh      text NOT NULL,
    name_en      text NOT NULL,
    unit         text NOT NULL CHECK (unit IN ('ratio', 'm2/person')),
    period_basis text NOT NULL CHECK (period_basis IN ('calendar', 'survey')),
    sort_order   smallint NOT NULL UNIQUE
);
INSERT INTO envmon.metric VALUES
    ('emissions_compliance_rate', '重点工业企业排放稳定达标率',
     'Key industrial enterprises'' stable emission compliance rate', 'ratio', 'calendar', 1),
    ('sewage_treatment_rate', '污水集中处理率', 'Centralised sewage treatment rate', 'ratio', 'calendar', 2),
    ('water_class_v_or_better_share', '二级河道断面Ⅴ类及以上比例',
     'Share of second-level river sections at class V or better', 'ratio', 'calendar', 3),
    ('green_coverage_rate', '建成区绿化覆盖率', 'Built-up area green coverage rate', 'ratio', 'survey', 4),
    ('park_green_per_capita_m2', '人均公园绿地面积', 'Park green area per capita (m²)', 'm2/person', 'survey', 5),
    ('white_pollution_remediation_rate', '白色污染整治率', 'White pollution remediation rate', 'ratio', 'calendar', 6),
    ('waste_harmless_transfer_rate', '生活垃圾无害化转运率', 'Domestic waste harmless transfer rate', 'ratio', 'calendar', 7),
    ('emissions_event_compliance_rate', '重点源事件达标率', 'Key source event compliance rate', 'ratio', 'calendar', 8);

-- ---------------------------------------------------------------------------------------------
-- Rules shared by every metric view.

-- The calendar periods that wholly contain [first_day, last_day]: its month when both lie in one
-- month, its year when both lie in one year. A day yields its month and its year; a quarter only
-- its year; a span across a year end nothing.
CREATE FUNCTION envmon.containing_periods(first_day date, last_day date)
RETURNS TABLE (granularity text, period text, period_start date, period_end date)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'month', to_char(first_day::timestamp, 'YYYY-MM'), date_trunc('month', first_day::timestamp)::date,
           (date_trunc('month', first_day::timestamp) + interval '1 month - 1 day')::date
    WHERE date_trunc('month', first_day::timestamp) = date_trunc('month', last_day::timestamp)
      AND last_day >= first_day
    UNION ALL
    SELECT 'year', to_char(first_day::timestamp, 'YYYY'), date_trunc('year', first_day::timestamp)::date,
           (date_trunc('year', first_day::timestamp) + interval '1 year - 1 day')::date
    WHERE date_trunc('year', first_day::timestamp) = date_trunc('year', last_day::timestamp)
      AND last_day >= first_day
$$;

-- The scopes a fact counts in: the whole area ('all') and its own district when known.
CREATE FUNCTION envmon.scopes_of(district text)
RETURNS TABLE (scope text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'all'
    UNION ALL
    SELECT district WHERE district IS NOT NULL AND district <> '' AND district <> 'all'
$$;

-- Whether value meets a plan target; exact on numeric, so "= 1" is met only by exactly 1.
CREATE FUNCTION envmon.target_met(value numeric, comparator text, target numeric)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE comparator
               WHEN '>=' THEN value >= target
               WHEN '>'  THEN value > target
               WHEN '<=' THEN value <= target
               WHEN '<'  THEN value < target
               WHEN '='  THEN value = target
           END
$$;
