function opts = tconv_nv(args, names, fn)
% TCONV_NV  Name-value pairs as MATLAB parses them: names are matched
% case-insensitively and may be abbreviated to any unique prefix (an exact
% match wins, so 'Weights' is not ambiguous with 'WeightsInitializer');
% a name given twice keeps its last value. Returns a struct with a field
% (the canonical name) for each name given. fn names the caller in error
% identifiers, e.g. tconv:transposedConv2dLayer:UnknownParameter.
  opts = struct();
  if mod(numel(args), 2) ~= 0
    error(sprintf('tconv:%s:InvalidNameValue', fn), ...
          '%s: name-value arguments must come in pairs (got %d arguments after the required ones)', ...
          fn, numel(args));
  end
  for i = 1:2:numel(args)
    name = tconv_text(args{i});
    if ~ischar(name) || ~(isrow(name) || isempty(name)) || isempty(name)
      error(sprintf('tconv:%s:InvalidParameterName', fn), ...
            '%s: argument %d must be a parameter name (a character vector), not %s', ...
            fn, i, tconv_fmt(name));
    end
    exact = strcmpi(name, names);
    if any(exact)
      hit = find(exact, 1);
    else
      hit = find(strncmpi(name, names, numel(name)));
    end
    if isempty(hit)
      error(sprintf('tconv:%s:UnknownParameter', fn), ...
            '%s: ''%s'' is not a parameter name; expected one of: %s', ...
            fn, name, strjoin(names, ', '));
    elseif numel(hit) > 1
      error(sprintf('tconv:%s:AmbiguousParameter', fn), ...
            '%s: ''%s'' is ambiguous; it could be any of: %s', ...
            fn, name, strjoin(names(hit), ', '));
    end
    opts.(names{hit}) = args{i + 1};
  end
end
