function c = tconv_same_crop(k, stride, dilation)
% TCONV_SAME_CROP  MATLAB's "same" crops [t b l r], from the documentation
% (written here independently of tconv): per dimension total = k_eff -
% stride; total >= 0: floor(total/2) at the top/left, the rest (the odd one)
% at the bottom/right; total < 0: 0 and total (bias-only rows/columns).
  keff = (k - 1) .* dilation + 1;
  total = keff - stride;
  lo = zeros(1, 2);
  hi = total;
  pos = total >= 0;
  lo(pos) = floor(total(pos) / 2);
  hi(pos) = total(pos) - lo(pos);
  c = [lo(1) hi(1) lo(2) hi(2)];
end
