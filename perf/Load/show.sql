SHOW application_name;
