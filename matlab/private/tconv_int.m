function v = tconv_int(v, name, fn, counts, lo)
% TCONV_INT  Checks that v holds integers >= lo, of any numeric class, with
% numel(v) one of counts; returns them as a double row vector. The error
% (tconv:<fn>:Invalid<name>) names the argument and the value.
  id = sprintf('tconv:%s:Invalid%s', fn, name);
  if ~isnumeric(v) || ~isreal(v) || issparse(v) || ~any(numel(v) == counts)
    error(id, '%s: %s must be %s of %s, not %s', fn, name, ...
          tconv_counts(counts), tconv_kind(lo), tconv_fmt(v));
  end
  d = double(v(:)');
  if any(~isfinite(d)) || any(d ~= round(d)) || any(d < lo) || ...
     any(double(v(:)') ~= v(:)') % an int64 beyond 2^53 does not survive double
    error(id, '%s: %s must be %s of %s, not %s', fn, name, ...
          tconv_counts(counts), tconv_kind(lo), tconv_fmt(v));
  end
  v = d;
end

function s = tconv_kind(lo)
  if lo > 0
    s = 'positive integers';
  else
    s = 'nonnegative integers';
  end
end

function s = tconv_counts(counts)
  parts = arrayfun(@(n) sprintf('%d', n), counts, 'UniformOutput', false);
  if numel(parts) == 1
    s = sprintf('a vector of %s', parts{1});
  else
    s = sprintf('a vector of %s or %s', strjoin(parts(1:end-1), ', '), parts{end});
  end
  s = strrep(s, 'a vector of 1 or', 'a scalar or a vector of');
  s = strrep(s, 'a vector of 1', 'a scalar');
end
