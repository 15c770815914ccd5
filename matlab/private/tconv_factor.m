function v = tconv_factor(v, name, fn)
% TCONV_FACTOR  A learn-rate or L2 factor: a finite nonnegative real scalar
% of any numeric class, returned as a double.
  if ~isnumeric(v) || ~isreal(v) || ~isscalar(v) || ~isfinite(double(v)) || double(v) < 0
    error(sprintf('tconv:%s:Invalid%s', fn, name), ...
          '%s: %s must be a finite nonnegative scalar, not %s', fn, name, tconv_fmt(v));
  end
  v = double(v);
end
