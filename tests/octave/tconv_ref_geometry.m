function [Yf, t, l, outH, outW] = tconv_ref_geometry(X, W, stride, dilation, crop)
% TCONV_REF_GEOMETRY  The zeroed uncropped output of tconv_ref (grown at the
% bottom and right when a crop there is negative), the top and left crops
% and the output size, from the semantics: full = (in-1)*stride + k_eff,
% out = full - crop_begin - crop_end.
  [H, Wd, ~, N] = size(X);
  [kh, kw, Fg, ~, G] = size(W);
  fullH = (H - 1) * stride(1) + (kh - 1) * dilation(1) + 1;
  fullW = (Wd - 1) * stride(2) + (kw - 1) * dilation(2) + 1;
  t = crop(1);
  l = crop(3);
  outH = fullH - crop(1) - crop(2);
  outW = fullW - crop(3) - crop(4);
  Yf = zeros(max(fullH, t + outH), max(fullW, l + outW), Fg * G, N);
end
