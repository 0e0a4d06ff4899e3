/* Stands in for an advertising tag on /consent/demo: runs only after consent to Google Ads. */
window.mamoriDemo = window.mamoriDemo || {};
window.mamoriDemo.ads = (window.mamoriDemo.ads || 0) + 1;
window.dataLayer.push({ event: 'mamori_demo_ads' });
