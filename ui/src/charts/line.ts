// One line of a chart, on its own so that the modules drawing it need not
// import the controller that owns it.
export interface ChartLine {
  key: string;
  label: string;
  color: string;
  /** The experiment a metric line is fetched from; absent for data the parent supplies. */
  expId?: string;
  /** Points the metric has (from the metrics list), to plan the first fetch. */
  count?: number;
}
