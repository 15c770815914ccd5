function v = tconv_int(v, name, fn, counts, lo)
% TCONV_INT  Checks that v holds integers >= lo, of any numeric class, with
% numel(v) one of counts; returns them as a double row vector. The error
% (tconv:<fn>:Invalid<name>) names the argument and the value.
  id = sprintf('tconv:%s:Invalid%s', fn, name);
  if ~isnumeric(v) || ~isreal(v) || issparse(v) || ~any(numel(v) == counts)
    error(id, '%s: %s must be %s, not %s', fn, name, tconv_what(counts, lo), tconv_fmt(v));
  end
  d = double(v(:)');
  if any(~isfinite(d)) || any(d ~= round(d)) || any(d < lo) || ...
     any(double(v(:)') ~= v(:)') % an int64 beyond 2^53 does not survive double
    error(id, '%s: %s must be %s, not %s', fn, name, tconv_what(counts, lo), tconv_fmt(v));
  end
  v = d;
end

function s = tconv_what(counts, lo)
% "a positive integer", "1 or 2 positive integers", "1, 2 or 4 nonnegative integers"
  if lo > 0, kind = 'positive'; else, kind = 'nonnegative'; end
  if isequal(counts, 1)
    s = sprintf('a %s integer', kind);
    return
  end
  parts = arrayfun(@(n) sprintf('%d', n), counts, 'UniformOutput', false);
  s = sprintf('%s or %s %s integers', strjoin(parts(1:end-1), ', '), parts{end}, kind);
end
