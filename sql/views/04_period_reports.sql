-- The period reports (sewage, green, waste) row by row, with each row's own rates. The metric
-- values sum numerators and denominators over a scope and period (05_metrics.sql), they do not
-- average these rates.

-- One row per plant and reported period; district from the row, else the plant's.
CREATE VIEW analytics.sewage_treatment AS
SELECT r.plant_id,
       s.name AS plant_name,
       coalesce(r.district, s.district) AS district,
       r.period_label AS period,
       r.period_start,
       r.period_end,
       r.sewage_discharged_m3,
       r.sewage_treated_m3,
       r.sewage_treated_m3 / nullif(r.sewage_discharged_m3, 0) AS treatment_rate,
       r.upload_id
FROM envmon.sewage_report r
LEFT JOIN envmon.site s ON s.kind = 'plant' AND s.parent_id = '' AND s.site_id = r.plant_id;

-- One row per district and surveyed period. Park green per capita = park green area in m²
-- (1 ha = 10,000 m²) ÷ population.
CREATE VIEW analytics.green_coverage AS
SELECT g.district,
       g.period_label AS period,
       g.period_start,
       g.period_end,
       g.built_up_area_ha,
       g.green_covered_area_ha,
       g.park_green_area_ha,
       g.population,
       g.green_covered_area_ha / nullif(g.built_up_area_ha, 0) AS green_coverage_rate,
       g.park_green_area_ha * 10000 / nullif(g.population, 0) AS park_green_per_capita_m2,
       g.upload_id
FROM envmon.green_survey g;

-- One row per district and reported period.
CREATE VIEW analytics.waste_transfer AS
SELECT w.district,
       w.period_label AS period,
       w.period_start,
       w.period_end,
       w.collected_t,
       w.harmless_t,
       w.harmless_t / nullif(w.collected_t, 0) AS harmless_transfer_rate,
       w.white_pollution_sites,
       w.white_pollution_remediated,
       w.white_pollution_remediated::numeric / nullif(w.white_pollution_sites, 0) AS white_pollution_remediation_rate,
       w.upload_id
FROM envmon.waste_report w;
