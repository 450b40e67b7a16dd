// Types for the copy of uPlot's ES module that the build puts next to the app (dist/dashboard/uPlot.esm.js).
import uPlot from 'uplot';
export default uPlot;
