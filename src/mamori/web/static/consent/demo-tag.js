/* Stands in for the Google tag on /consent/demo: runs once the Consent Mode default is set. */
window.mamoriDemo = window.mamoriDemo || {};
window.mamoriDemo.tag = (window.mamoriDemo.tag || 0) + 1;
window.dataLayer.push({ event: 'mamori_demo_tag' });
