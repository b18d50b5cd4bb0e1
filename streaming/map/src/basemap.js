// The offline basemap: water, New York City's boroughs, parks, cemeteries and airports from
// basemap/nyc.json (shipped with the page, see BASEMAP.md), drawn as vectors on a canvas. Online
// tiles are used instead only when config.json names a tile URL.
import L from "leaflet";

export const COLORS = {
  outside: "#e9e5dc", // land outside the city (the map's background)
  water: "#a9d3e6",
  borough: "#f8f6f1",
  park: "#bfe3a8",
  cemetery: "#d3e4c5",
  airport: "#e3e0ea",
  boroughLine: "#a39482",
};

const STYLES = {
  water: { fillColor: COLORS.water, fillOpacity: 1, stroke: false },
  borough: { fillColor: COLORS.borough, fillOpacity: 1, color: COLORS.boroughLine, weight: 1.2, dashArray: "4 3" },
  park: { fillColor: COLORS.park, fillOpacity: 1, color: "#8fc47a", weight: 0.8 },
  cemetery: { fillColor: COLORS.cemetery, fillOpacity: 1, color: "#a9c79a", weight: 0.6 },
  airport: { fillColor: COLORS.airport, fillOpacity: 1, color: "#b9b4c6", weight: 0.6 },
};
const ORDER = ["water", "borough", "cemetery", "airport", "park"];
const LABELS = new Set(["Central Park", "Prospect Park", "Flushing Meadows-Corona Park", "Van Cortlandt Park",
  "Pelham Bay Park", "LaGuardia Airport", "John F. Kennedy International Airport"]);

export async function addBasemap(map, config, fetchImpl = fetch) {
  if (config.tiles?.url) {
    L.tileLayer(config.tiles.url, {
      attribution: config.tiles.attribution ?? "", maxZoom: config.tiles.maxZoom ?? 19,
    }).addTo(map);
    return { kind: "tiles" };
  }
  const response = await fetchImpl("basemap/nyc.json");
  if (!response.ok) throw new Error(`basemap: HTTP ${response.status}`);
  const data = await response.json();
  map.createPane("basemap").style.zIndex = 200;
  const renderer = L.canvas({ pane: "basemap", padding: 0.5 });
  const byLayer = new Map(ORDER.map((name) => [name, []]));
  for (const feature of data.features) byLayer.get(feature.properties.layer)?.push(feature);
  for (const name of ORDER) {
    L.geoJSON({ type: "FeatureCollection", features: byLayer.get(name) }, {
      style: STYLES[name], renderer, interactive: false, pane: "basemap",
    }).addTo(map);
  }
  map.attributionControl.addAttribution(
    "Water © OpenStreetMap contributors (ODbL); boroughs and parks: NYC Dept. of City Planning",
  );
  addLabels(map, byLayer);
  const [west, south, east, north] = data.bbox;
  return { kind: "vector", bounds: L.latLngBounds([south, west], [north, east]) };
}

function addLabels(map, byLayer) {
  const pane = map.createPane("labels");
  pane.style.zIndex = 420;
  pane.style.pointerEvents = "none";
  const place = (feature, className) => {
    // The centre of the largest polygon of the feature.
    const polygons = feature.geometry.coordinates;
    let best = polygons[0], bestSize = 0;
    for (const polygon of polygons) {
      const size = polygon[0].length;
      if (size > bestSize) { best = polygon; bestSize = size; }
    }
    const center = L.polygon(best.map((ring) => ring.map(([x, y]) => [y, x]))).getBounds().getCenter();
    L.marker(center, {
      pane: "labels", interactive: false, keyboard: false,
      icon: L.divIcon({ className: `basemap-label ${className}`, html: "", iconSize: null }),
    }).addTo(map).getElement().textContent = feature.properties.name;
  };
  // Labels need the map on screen: add them once it has a size.
  for (const f of byLayer.get("borough")) place(f, "borough-label");
  for (const name of ["park", "airport"]) {
    for (const f of byLayer.get(name)) if (LABELS.has(f.properties.name)) place(f, "park-label");
  }
}
