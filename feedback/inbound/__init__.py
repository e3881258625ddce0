"""Mail that comes back: customers' replies to a case, bounces and complaints."""
