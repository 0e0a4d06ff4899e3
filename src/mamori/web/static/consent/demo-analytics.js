/* Stands in for an analytics script on /consent/demo: runs only after consent to analytics. */
window.mamoriDemo = window.mamoriDemo || {};
window.mamoriDemo.analytics = (window.mamoriDemo.analytics || 0) + 1;
window.dataLayer.push({ event: 'mamori_demo_analytics' });
