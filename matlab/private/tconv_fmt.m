function s = tconv_fmt(v)
% TCONV_FMT  A value as error messages and disp show it: small numeric and
% logical arrays in full, text quoted, larger arrays by size and class.
  if ischar(v) && (isrow(v) || isempty(v))
    s = ['''' v ''''];
  elseif isa(v, 'function_handle')
    s = func2str(v);
    if s(1) ~= '@', s = ['@' s]; end
  elseif (isnumeric(v) || islogical(v)) && ndims(v) == 2 && numel(v) <= 8
    if isempty(v)
      s = '[]';
    elseif isreal(v)
      s = mat2str(double(v), 6);
    else
      s = mat2str(v, 6);
    end
    if ~isa(v, 'double'), s = sprintf('%s (%s)', s, class(v)); end
  else
    dims = sprintf('%dx', size(v));
    s = sprintf('[%s %s]', dims(1:end-1), class(v));
  end
end
