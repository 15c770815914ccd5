function c = tconv_crop(v, fn)
% TCONV_CROP  MATLAB's Cropping argument: 'same', or p (all four edges),
% [a b] (a top and bottom, b left and right) or [t b l r], nonnegative
% integers. Returns 'same' or the [t b l r] row.
  v = tconv_text(v);
  if ischar(v)
    if strcmpi(v, 'same')
      c = 'same';
      return
    end
    error(sprintf('tconv:%s:InvalidCropping', fn), ...
          '%s: Cropping must be ''same'' or a vector of 1, 2 or 4 nonnegative integers, not %s', ...
          fn, tconv_fmt(v));
  end
  if ~isnumeric(v) || ~isreal(v) || ~any(numel(v) == [1 2 4])
    error(sprintf('tconv:%s:InvalidCropping', fn), ...
          '%s: Cropping must be ''same'' or a vector of 1, 2 or 4 nonnegative integers, not %s', ...
          fn, tconv_fmt(v));
  end
  v = tconv_int(v, 'Cropping', fn, [1 2 4], 0);
  switch numel(v)
    case 1
      c = [v v v v];
    case 2
      c = [v(1) v(1) v(2) v(2)];
    otherwise
      c = v;
  end
end
